-- The reading a bill line was split on, kept with the line: a reading corrected after the bill
-- must not change how an issued bill explains itself. Bills issued before this column existed
-- take the reading on record now (the best there is).
ALTER TABLE bill_lines ADD COLUMN usage numeric CHECK (usage >= 0);
UPDATE bill_lines l SET usage = r.usage
    FROM bills b, meter_readings r
    WHERE b.id = l.bill_id AND r.cost_id = b.cost_id AND r.period = b.period
      AND r.unit_id = l.unit_id;
