-- Payments of bill lines (one unit's share of one period's bill), recorded by who keeps the
-- shared costs: a line without a payment is unpaid. The committee founding reads the unpaid
-- lines of its candidates' units (a compound may require candidates to owe nothing).
CREATE TABLE bill_payments (
    bill_id      uuid NOT NULL,
    unit_id      uuid NOT NULL,
    paid_on      date NOT NULL,
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bill_id, unit_id),
    FOREIGN KEY (bill_id, unit_id) REFERENCES bill_lines (bill_id, unit_id)
);
