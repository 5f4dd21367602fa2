-- Idempotency keys now commit together with their answer (linli/idempotency.py). A claim
-- left without an answer by the code before would answer 409 for ever: let it go.
DELETE FROM idempotency WHERE status IS NULL;

-- The pruning job (linli/pruning.py) deletes old rows in batches by these times.
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX inbox_processed ON inbox (processed_at);
CREATE INDEX idempotency_created ON idempotency (created_at);
