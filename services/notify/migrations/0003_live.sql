-- The live inbox (Server-Sent Events): every notification and notice-board post gets a
-- position in one sequence (the SSE event id, so a reconnect with Last-Event-ID replays what
-- came after it) and is pushed once to NATS by whichever replica claims it (pushed_at).
CREATE SEQUENCE live_seq;
ALTER TABLE notifications ADD COLUMN seq bigint NOT NULL DEFAULT nextval('live_seq'),
                          ADD COLUMN pushed_at timestamptz;
ALTER TABLE notices ADD COLUMN seq bigint NOT NULL DEFAULT nextval('live_seq'),
                    ADD COLUMN pushed_at timestamptz;
-- what was written before the live inbox existed is history, not news
UPDATE notifications SET pushed_at = created_at;
UPDATE notices SET pushed_at = created_at;
CREATE INDEX notifications_live ON notifications (person_id, seq);
CREATE INDEX notifications_unpushed ON notifications (seq) WHERE pushed_at IS NULL;
CREATE INDEX notices_live ON notices (compound_id, seq);
CREATE INDEX notices_unpushed ON notices (seq) WHERE pushed_at IS NULL;
