-- The prune of read notifications (READ_NOTIFICATIONS in app.py) finds its rows by an index
-- instead of scanning every inbox; pruning a notification takes its delivery log and digest
-- items with it (they referenced it without a rule, so the prune failed on the first one).
CREATE INDEX notifications_read_at ON notifications (read_at) WHERE read_at IS NOT NULL;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_notification_id_fkey,
    ADD CONSTRAINT deliveries_notification_id_fkey FOREIGN KEY (notification_id)
        REFERENCES notifications (id) ON DELETE CASCADE;
ALTER TABLE digest_items DROP CONSTRAINT digest_items_notification_id_fkey,
    ADD CONSTRAINT digest_items_notification_id_fkey FOREIGN KEY (notification_id)
        REFERENCES notifications (id) ON DELETE CASCADE;

-- A webhook secret being rotated: until previous_until the sender signs with the old secret
-- as well as the new one (Standard Webhooks: several space-separated v1 signatures), so the
-- receiver can switch to the new secret at its own pace.
ALTER TABLE preferences ADD COLUMN webhook_previous_secret text,
                        ADD COLUMN webhook_previous_until timestamptz,
                        ADD CONSTRAINT preferences_rotation CHECK (
                            (webhook_previous_secret IS NULL) = (webhook_previous_until IS NULL));
