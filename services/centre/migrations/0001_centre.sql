-- The neighbourhood centre (邻里中心): venues and bookings, activity plans and activities with
-- sign-ups and waiting lists, interest groups, the lending library.

-- The exclusion constraint below compares a uuid (=) and a range (&&) in one GiST index.
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

CREATE TABLE venues (
    id                 uuid PRIMARY KEY,
    compound_id        uuid NOT NULL,
    name               text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('room', 'court', 'library', 'outdoor')),
    capacity           int NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
    -- [{"weekday": 1..7, "opens": "HH:MM", "closes": "HH:MM"}], local time (Asia/Shanghai)
    opening_hours      jsonb NOT NULL,
    max_minutes        int NOT NULL CHECK (max_minutes BETWEEN 15 AND 1440),
    advance_days       int NOT NULL CHECK (advance_days BETWEEN 1 AND 366),
    buffer_minutes     int NOT NULL DEFAULT 0 CHECK (buffer_minutes BETWEEN 0 AND 240),
    bookers            text[] NOT NULL,
    requires_approval  boolean NOT NULL DEFAULT false,
    facilities         text[] NOT NULL DEFAULT '{}',
    rules              text NOT NULL DEFAULT '',
    active             boolean NOT NULL DEFAULT true,
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (compound_id, name)
);

CREATE TABLE venue_closures (
    id          uuid PRIMARY KEY,
    venue_id    uuid NOT NULL REFERENCES venues(id),
    during      tstzrange NOT NULL CHECK (NOT isempty(during)),
    reason      text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX venue_closures_during ON venue_closures USING gist (venue_id, during);

CREATE TABLE booking_series (
    id           uuid PRIMARY KEY,
    compound_id  uuid NOT NULL,
    venue_id     uuid NOT NULL REFERENCES venues(id),
    booker_id    text NOT NULL,
    group_id     uuid,
    purpose      text NOT NULL,
    weekdays     int[] NOT NULL,
    start_time   time NOT NULL,
    end_time     time NOT NULL CHECK (end_time > start_time),
    first_day    date NOT NULL,
    last_day     date NOT NULL CHECK (last_day >= first_day),
    exceptions   date[] NOT NULL DEFAULT '{}',
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A venue is never booked twice: PostgreSQL refuses two live bookings whose blocked ranges
-- (the booking plus the venue's buffer after it) overlap, whatever code writes them. A request
-- waiting for approval holds its slot until it is declined or cancelled.
CREATE TABLE bookings (
    id           uuid PRIMARY KEY,
    compound_id  uuid NOT NULL,
    venue_id     uuid NOT NULL REFERENCES venues(id),
    series_id    uuid REFERENCES booking_series(id),
    booker_id    text NOT NULL,
    booked_by    text NOT NULL,
    group_id     uuid,
    purpose      text NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL CHECK (ends_at > starts_at),
    blocked      tstzrange NOT NULL,
    status       text NOT NULL CHECK (status IN
                   ('pending', 'confirmed', 'declined', 'cancelled', 'no_show')),
    decided_by   text,
    decided_at   timestamptz,
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (venue_id WITH =, blocked WITH &&)
        WHERE (status IN ('pending', 'confirmed'))
);
CREATE INDEX bookings_venue ON bookings (venue_id, starts_at);
CREATE INDEX bookings_compound ON bookings (compound_id, created_at DESC, id DESC);
CREATE INDEX bookings_series ON bookings (series_id) WHERE series_id IS NOT NULL;

-- Resident groups (老年人, 亲子家庭, 青年上班族, or a compound's own) and their plans.
CREATE TABLE activity_plans (
    id            uuid PRIMARY KEY,
    compound_id   uuid NOT NULL,
    audience      text NOT NULL,
    period        text NOT NULL,
    title         text NOT NULL,
    summary       text NOT NULL DEFAULT '',
    status        text NOT NULL CHECK (status IN ('draft', 'published')),
    created_by    text NOT NULL,
    published_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (compound_id, audience, period)
);

CREATE TABLE activities (
    id                uuid PRIMARY KEY,
    compound_id       uuid NOT NULL,
    plan_id           uuid REFERENCES activity_plans(id),
    group_id          uuid,
    title             text NOT NULL,
    description       text NOT NULL DEFAULT '',
    organiser         text NOT NULL,
    audience          text NOT NULL,
    venue_id          uuid REFERENCES venues(id),
    booking_id        uuid REFERENCES bookings(id),
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL CHECK (ends_at > starts_at),
    capacity          int NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
    signup_opens_at   timestamptz NOT NULL,
    signup_closes_at  timestamptz NOT NULL CHECK (signup_closes_at > signup_opens_at),
    status            text NOT NULL CHECK (status IN ('open', 'cancelled', 'closed')),
    created_by        text NOT NULL,
    cancel_reason     text,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activities_compound ON activities (compound_id, starts_at);
CREATE INDEX activities_plan ON activities (plan_id) WHERE plan_id IS NOT NULL;

-- Sign-ups in arrival order (seq); a person holds at most one live sign-up per activity.
CREATE TABLE signups (
    id             uuid PRIMARY KEY,
    activity_id    uuid NOT NULL REFERENCES activities(id),
    compound_id    uuid NOT NULL,
    person_id      text NOT NULL,
    name           text NOT NULL DEFAULT '',
    seq            bigserial NOT NULL,
    status         text NOT NULL CHECK (status IN ('confirmed', 'waiting', 'cancelled')),
    code           text NOT NULL,
    promoted_at    timestamptz,
    checked_in_at  timestamptz,
    checked_in_by  text,
    feedback       int CHECK (feedback BETWEEN 1 AND 5),
    cancelled_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX signups_one_live ON signups (activity_id, person_id) WHERE status <> 'cancelled';
CREATE INDEX signups_queue ON signups (activity_id, status, seq);

CREATE TABLE interest_groups (
    id                 uuid PRIMARY KEY,
    compound_id        uuid NOT NULL,
    name               text NOT NULL,
    kind               text NOT NULL,
    description        text NOT NULL DEFAULT '',
    status             text NOT NULL CHECK (status IN ('proposed', 'approved', 'closed')),
    requires_approval  boolean NOT NULL DEFAULT false,
    proposed_by        text NOT NULL,
    approved_by        text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (compound_id, name)
);

CREATE TABLE group_members (
    group_id   uuid NOT NULL REFERENCES interest_groups(id),
    person_id  text NOT NULL,
    name       text NOT NULL DEFAULT '',
    role       text NOT NULL CHECK (role IN ('leader', 'member')),
    status     text NOT NULL CHECK (status IN ('pending', 'active', 'left')),
    joined_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, person_id)
);

CREATE TABLE books (
    id           uuid PRIMARY KEY,
    compound_id  uuid NOT NULL,
    title        text NOT NULL,
    author       text NOT NULL DEFAULT '',
    isbn         text,
    copies       int NOT NULL CHECK (copies BETWEEN 0 AND 1000),
    donated_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (compound_id, isbn)
);

CREATE TABLE loans (
    id                  uuid PRIMARY KEY,
    book_id             uuid NOT NULL REFERENCES books(id),
    compound_id         uuid NOT NULL,
    person_id           text NOT NULL,
    lent_by             text NOT NULL,
    due_on              date NOT NULL,
    renewed             boolean NOT NULL DEFAULT false,
    status              text NOT NULL CHECK (status IN ('active', 'returned', 'lost')),
    overdue_notified_at timestamptz,
    returned_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX loans_one_per_reader ON loans (book_id, person_id) WHERE status = 'active';
CREATE INDEX loans_overdue ON loans (due_on) WHERE status = 'active' AND overdue_notified_at IS NULL;
CREATE INDEX loans_reader ON loans (compound_id, person_id, created_at DESC);

-- Holds queue in arrival order; a returned copy becomes 'ready' for the first hold.
CREATE TABLE holds (
    id           uuid PRIMARY KEY,
    book_id      uuid NOT NULL REFERENCES books(id),
    compound_id  uuid NOT NULL,
    person_id    text NOT NULL,
    seq          bigserial NOT NULL,
    status       text NOT NULL CHECK (status IN ('waiting', 'ready', 'fulfilled', 'cancelled')),
    ready_at     timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX holds_one_live ON holds (book_id, person_id) WHERE status IN ('waiting', 'ready');
CREATE INDEX holds_queue ON holds (book_id, status, seq);
