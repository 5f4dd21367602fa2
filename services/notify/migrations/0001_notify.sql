-- Notifications: templates a compound overrides, people's channel preferences, the in-app
-- inbox (one row per event and person), the compound notice board (one row per event),
-- outbound deliveries (written with the notification, sent by the sender) and the issues
-- this service has seen reported (who to tell when an issue moves).
CREATE TABLE templates (
    compound_id uuid NOT NULL,
    kind        text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (compound_id, kind)
);

CREATE TABLE preferences (
    person_id      text PRIMARY KEY,
    webhook_url    text,
    webhook_secret text,
    kinds          text[] NOT NULL DEFAULT '{}',
    quiet_start    time,
    quiet_end      time,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

CREATE TABLE notifications (
    id          uuid PRIMARY KEY,
    event_id    uuid NOT NULL,
    person_id   text NOT NULL,
    compound_id uuid,
    kind        text NOT NULL,
    audience    text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    subject     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    read_at     timestamptz,
    UNIQUE (event_id, person_id)
);
CREATE INDEX notifications_inbox ON notifications (person_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (person_id) WHERE read_at IS NULL;

CREATE TABLE notices (
    id          uuid PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    compound_id uuid NOT NULL,
    kind        text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    subject     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX notices_board ON notices (compound_id, created_at DESC, id DESC);

CREATE TABLE deliveries (
    id              uuid PRIMARY KEY,
    notification_id uuid NOT NULL REFERENCES notifications (id),
    person_id       text NOT NULL,
    compound_id     uuid,
    kind            text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('webhook')),
    target          text NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    UNIQUE (notification_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_person ON deliveries (person_id, created_at DESC, id DESC);
CREATE INDEX deliveries_compound ON deliveries (compound_id, created_at DESC, id DESC);

CREATE TABLE issues_seen (
    issue_id    uuid PRIMARY KEY,
    compound_id uuid NOT NULL,
    reporter_id text,
    title       text NOT NULL
);
