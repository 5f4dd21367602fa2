"""The desk (工作台): the pages of the people who run a neighbourhood council and its parties.

Same sign-in, sessions and service clients as the residents' pages; every page lives under
/desk/c/{compound_id} and opens only for a person holding a staff role in that compound.
"""
