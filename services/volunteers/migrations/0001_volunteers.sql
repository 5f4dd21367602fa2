-- Volunteers, their skills, the service menu, orders, the service ledger and recurring care.
CREATE TABLE skills (
    compound_id  uuid NOT NULL,
    code         text NOT NULL,
    name         text NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    PRIMARY KEY (compound_id, code)
);

CREATE TABLE volunteers (
    id             uuid PRIMARY KEY,
    compound_id    uuid NOT NULL,
    person_id      text NOT NULL,
    name           text NOT NULL,
    skills         text[] NOT NULL CHECK (cardinality(skills) >= 1),
    availability   text NOT NULL DEFAULT '',
    team_id        uuid,
    party_member   boolean NOT NULL DEFAULT false,
    status         text NOT NULL CHECK (status IN ('pending', 'verified', 'suspended')),
    registered_by  text NOT NULL,
    verified_by    text,
    verified_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (compound_id, person_id)
);

CREATE TABLE menu_items (
    id                 uuid PRIMARY KEY,
    compound_id        uuid NOT NULL,
    title              text NOT NULL,
    skill              text NOT NULL,
    description        text NOT NULL DEFAULT '',
    duration_minutes   int NOT NULL CHECK (duration_minutes BETWEEN 5 AND 1440),
    capacity_per_week  int NOT NULL CHECK (capacity_per_week BETWEEN 1 AND 1000),
    volunteer_id       uuid REFERENCES volunteers(id),
    published_by       text NOT NULL,
    status             text NOT NULL CHECK (status IN ('published', 'withdrawn')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (compound_id, skill) REFERENCES skills (compound_id, code)
);
CREATE INDEX menu_items_compound ON menu_items (compound_id, status, created_at DESC, id DESC);

-- The typed flow; the CHECKs keep every row consistent with its status whatever code writes it.
CREATE TABLE orders (
    id              uuid PRIMARY KEY,
    compound_id     uuid NOT NULL,
    item_id         uuid NOT NULL REFERENCES menu_items(id),
    skill           text NOT NULL,
    resident_id     text NOT NULL,
    ordered_by      text NOT NULL,
    on_behalf       boolean NOT NULL DEFAULT false,
    contact_name    text NOT NULL DEFAULT '',
    unit_id         uuid NOT NULL,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL CHECK (window_end > window_start),
    week_start      date NOT NULL,
    note            text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status IN
                      ('ordered', 'accepted', 'in_service', 'completed', 'rated', 'cancelled')),
    volunteer_id    uuid REFERENCES volunteers(id),
    assigned_by     text,
    accepted_at     timestamptz,
    started_at      timestamptz,
    completed_at    timestamptz,
    minutes         int CHECK (minutes BETWEEN 1 AND 1440),
    service_notes   text NOT NULL DEFAULT '',
    rating          int CHECK (rating BETWEEN 1 AND 5),
    rating_comment  text NOT NULL DEFAULT '',
    rated_at        timestamptz,
    cancel_reason   text,
    cancelled_at    timestamptz,
    declines        int NOT NULL DEFAULT 0,
    version         int NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status IN ('ordered', 'cancelled')) OR volunteer_id IS NOT NULL),
    CHECK (status <> 'ordered' OR volunteer_id IS NULL),
    CHECK ((status IN ('completed', 'rated')) = (minutes IS NOT NULL AND completed_at IS NOT NULL)),
    CHECK ((status = 'rated') = (rating IS NOT NULL))
);
CREATE INDEX orders_compound ON orders (compound_id, created_at DESC, id DESC);
CREATE INDEX orders_capacity ON orders (item_id, week_start) WHERE status <> 'cancelled';

CREATE TABLE order_history (
    id           bigserial PRIMARY KEY,
    order_id     uuid NOT NULL REFERENCES orders(id),
    action       text NOT NULL,
    from_status  text,
    to_status    text NOT NULL,
    actor        text NOT NULL,
    note         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_history_order ON order_history (order_id, id);

CREATE TABLE care_plans (
    id              uuid PRIMARY KEY,
    compound_id     uuid NOT NULL,
    person_id       text NOT NULL,
    person_name     text NOT NULL,
    unit_id         uuid NOT NULL,
    volunteer_id    uuid NOT NULL REFERENCES volunteers(id),
    skill           text NOT NULL,
    interval_days   int NOT NULL CHECK (interval_days BETWEEN 1 AND 90),
    first_due_at    timestamptz NOT NULL,
    note            text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status IN ('active', 'ended')),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    FOREIGN KEY (compound_id, skill) REFERENCES skills (compound_id, code)
);

-- One row per scheduled visit; visit n of a plan is due at first_due_at + (n-1)·interval.
CREATE TABLE care_visits (
    id               uuid PRIMARY KEY,
    plan_id          uuid NOT NULL REFERENCES care_plans(id),
    compound_id      uuid NOT NULL,
    seq              int NOT NULL CHECK (seq >= 1),
    due_at           timestamptz NOT NULL,
    status           text NOT NULL CHECK (status IN ('due', 'recorded', 'missed', 'cancelled')),
    volunteer_id     uuid REFERENCES volunteers(id),
    recorded_at      timestamptz,
    minutes          int CHECK (minutes BETWEEN 1 AND 1440),
    notes            text NOT NULL DEFAULT '',
    missed_at        timestamptz,
    acknowledged_by  text,
    acknowledged_at  timestamptz,
    UNIQUE (plan_id, seq),
    CHECK ((status = 'recorded') = (minutes IS NOT NULL))
);
CREATE INDEX care_visits_due ON care_visits (due_at) WHERE status = 'due';
CREATE INDEX care_visits_flags ON care_visits (compound_id, due_at)
    WHERE status = 'missed' AND acknowledged_at IS NULL;

-- 服务台账: one line per completed service (an order or a care visit), never twice.
CREATE TABLE ledger (
    id            bigserial PRIMARY KEY,
    compound_id   uuid NOT NULL,
    volunteer_id  uuid NOT NULL REFERENCES volunteers(id),
    source        text NOT NULL CHECK (source IN ('order', 'care_visit')),
    source_id     uuid NOT NULL,
    skill         text NOT NULL,
    title         text NOT NULL,
    person_id     text NOT NULL,
    minutes       int NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
    rating        int CHECK (rating BETWEEN 1 AND 5),
    served_at     timestamptz NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX ledger_compound ON ledger (compound_id, served_at DESC, id DESC);
CREATE INDEX ledger_volunteer ON ledger (volunteer_id);
