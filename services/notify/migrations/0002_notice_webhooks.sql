-- Notice-board posts reach webhooks too (an IM group bot, the property company's system):
-- a person's preferences remember the compounds of their token when saved, and a delivery
-- comes either from a notification or from a notice.
ALTER TABLE preferences ADD COLUMN compound_ids uuid[] NOT NULL DEFAULT '{}';
CREATE INDEX preferences_boards ON preferences USING gin (compound_ids) WHERE webhook_url IS NOT NULL;

ALTER TABLE deliveries ALTER COLUMN notification_id DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN notice_id uuid REFERENCES notices (id);
ALTER TABLE deliveries ADD CONSTRAINT deliveries_one_source
    CHECK ((notification_id IS NULL) <> (notice_id IS NULL));
CREATE UNIQUE INDEX deliveries_notice_person ON deliveries (notice_id, person_id, channel)
    WHERE notice_id IS NOT NULL;
