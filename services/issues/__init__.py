"""Issues: residents' problems from report to resolution, with an Open311 GeoReport v2 façade."""
