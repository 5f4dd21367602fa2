-- The sweep looks for orders nobody accepted before their window ended.
CREATE INDEX orders_stale ON orders (window_end) WHERE status = 'ordered';
