-- A menu item's places taken per week, kept by the order flow: an order takes one in the
-- statement that places it (INSERT … ON CONFLICT DO UPDATE … WHERE placed < capacity, which
-- locks and re-reads the week's row, so concurrent orders for one week queue on it and never
-- overbook; other weeks do not wait), and every move to `cancelled` gives it back in the same
-- transaction. So `placed` is always the count of the week's orders that are not cancelled,
-- without counting them per order.
CREATE TABLE week_places (
    item_id     uuid NOT NULL REFERENCES menu_items(id),
    week_start  date NOT NULL,
    placed      int NOT NULL CHECK (placed >= 0),
    PRIMARY KEY (item_id, week_start)
);

-- Orders written while this runs are counted too: the table is held against writes until the
-- migration commits.
LOCK TABLE orders IN SHARE MODE;
INSERT INTO week_places (item_id, week_start, placed)
SELECT item_id, week_start, count(*) FROM orders WHERE status <> 'cancelled'
GROUP BY item_id, week_start;

-- Nothing counts a week's orders any more.
DROP INDEX orders_capacity;
