-- Channels beyond the inbox and the webhook: email and SMS addresses a person gives (per kind),
-- the IM group bots staff configure for an organisation of the compound (or its notice board),
-- and a compound's own email sender. A delivery now has a channel among these; a bot's
-- delivery belongs to the bot and the event (once per event and bot), not to a person.
CREATE TABLE person_channels (
    person_id         text NOT NULL,
    channel           text NOT NULL CHECK (channel IN ('email', 'sms')),
    address           text NOT NULL,
    kinds             text[] NOT NULL DEFAULT '{}',
    digest_hour       smallint CHECK (digest_hour BETWEEN 0 AND 23),  -- NULL: at once
    unsubscribe_token uuid NOT NULL UNIQUE,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, channel)
);

CREATE TABLE bots (
    id           uuid PRIMARY KEY,
    compound_id  uuid NOT NULL,
    organisation text NOT NULL,
    platform     text NOT NULL CHECK (platform IN ('wecom', 'dingtalk', 'feishu')),
    name         text NOT NULL,
    url          text NOT NULL,
    secret       text,
    kinds        text[] NOT NULL DEFAULT '{}',
    mention_mobiles text[] NOT NULL DEFAULT '{}',
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bots_compound ON bots (compound_id, organisation);

CREATE TABLE email_senders (
    compound_id  uuid PRIMARY KEY,
    from_name    text NOT NULL,
    from_address text NOT NULL,
    reply_to     text,
    updated_by   text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
    CHECK (channel IN ('webhook', 'email', 'sms', 'wecom', 'dingtalk', 'feishu'));
ALTER TABLE deliveries ALTER COLUMN person_id DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN bot_id uuid REFERENCES bots (id) ON DELETE CASCADE,
                       ADD COLUMN event_id uuid,
                       ADD COLUMN digest_day date;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_one_source;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_one_source CHECK (
    (bot_id IS NOT NULL AND person_id IS NULL AND event_id IS NOT NULL)
    OR (bot_id IS NULL AND person_id IS NOT NULL
        AND num_nonnulls(notification_id, notice_id, digest_day) = 1));
CREATE UNIQUE INDEX deliveries_bot_event ON deliveries (event_id, bot_id) WHERE bot_id IS NOT NULL;
-- one digest per person, channel and day (China Standard Time), whichever replica makes it
CREATE UNIQUE INDEX deliveries_digest_day ON deliveries (person_id, channel, digest_day)
    WHERE digest_day IS NOT NULL;

-- notifications waiting for a person's daily digest on a channel (delivery_id once sent)
CREATE TABLE digest_items (
    notification_id uuid NOT NULL REFERENCES notifications (id),
    channel         text NOT NULL,
    person_id       text NOT NULL,
    delivery_id     uuid REFERENCES deliveries (id),
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (notification_id, channel)
);
CREATE INDEX digest_items_waiting ON digest_items (person_id, channel) WHERE delivery_id IS NULL;
-- the SMS rate limit: a text reserves its place here (under a lock per phone) before it is sent
CREATE TABLE sms_sends (
    delivery_id uuid PRIMARY KEY,
    phone       text NOT NULL,
    sent_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX sms_sends_phone ON sms_sends (phone, sent_at);
