-- Residents' issues: categories per compound, the issues, co-signs, comments, history, feedback.
CREATE TABLE compound_settings (
    compound_id          uuid PRIMARY KEY,
    cosign_threshold     int NOT NULL DEFAULT 10 CHECK (cosign_threshold >= 1),
    reopen_window_hours  int NOT NULL DEFAULT 168 CHECK (reopen_window_hours >= 1),
    created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE categories (
    compound_id    uuid NOT NULL REFERENCES compound_settings(compound_id),
    code           text NOT NULL,
    name           text NOT NULL,
    description    text NOT NULL DEFAULT '',
    responsible    text NOT NULL,
    respond_hours  int NOT NULL CHECK (respond_hours >= 1),
    resolve_hours  int NOT NULL CHECK (resolve_hours >= respond_hours),
    attributes     jsonb NOT NULL DEFAULT '[]',
    active         boolean NOT NULL DEFAULT true,
    PRIMARY KEY (compound_id, code)
);

CREATE TABLE issues (
    id                 uuid PRIMARY KEY,
    compound_id        uuid NOT NULL,
    category           text NOT NULL,
    title              text NOT NULL,
    description        text NOT NULL,
    unit_id            uuid,
    area               text,
    location_note      text NOT NULL DEFAULT '',
    lat                double precision,
    long               double precision,
    photos             text[] NOT NULL DEFAULT '{}',
    attributes         jsonb NOT NULL DEFAULT '{}',
    anonymous          boolean NOT NULL DEFAULT false,
    reporter_id        text,
    reported_by        text NOT NULL,
    on_behalf          boolean NOT NULL DEFAULT false,
    contact_name       text NOT NULL DEFAULT '',
    channel            text NOT NULL CHECK (channel IN ('app', 'staff', 'open311')),
    token              uuid UNIQUE,
    responsible        text NOT NULL,
    status             text NOT NULL CHECK (status IN
                         ('submitted', 'accepted', 'in_progress', 'resolved', 'rejected', 'duplicate')),
    status_note        text NOT NULL DEFAULT '',
    duplicate_of       uuid REFERENCES issues(id),
    cosign_count       int NOT NULL DEFAULT 0 CHECK (cosign_count >= 0),
    resolutions        int NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    respond_by         timestamptz NOT NULL,
    resolve_by         timestamptz NOT NULL,
    first_response_at  timestamptz,
    resolved_at        timestamptz,
    escalated_at       timestamptz,
    escalation_reason  text,
    overdue_at         timestamptz,
    CHECK ((unit_id IS NULL) <> (area IS NULL)),
    FOREIGN KEY (compound_id, category) REFERENCES categories (compound_id, code)
);
CREATE INDEX issues_compound ON issues (compound_id, created_at DESC, id DESC);
CREATE INDEX issues_open ON issues (compound_id, category)
    WHERE status IN ('submitted', 'accepted', 'in_progress');
CREATE INDEX issues_overdue ON issues (resolve_by)
    WHERE overdue_at IS NULL AND status IN ('submitted', 'accepted', 'in_progress');

-- One co-sign per person per issue, enforced by the database under concurrency.
CREATE TABLE cosigns (
    issue_id    uuid NOT NULL REFERENCES issues(id),
    person_id   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issue_id, person_id)
);

CREATE TABLE comments (
    id          uuid PRIMARY KEY,
    issue_id    uuid NOT NULL REFERENCES issues(id),
    author_id   text NOT NULL,
    body        text NOT NULL,
    official    boolean NOT NULL DEFAULT false,
    template    text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comments_issue ON comments (issue_id, created_at, id);

-- Every transition, reassignment, escalation and reopening: timestamped and attributed.
CREATE TABLE history (
    id           bigserial PRIMARY KEY,
    issue_id     uuid NOT NULL REFERENCES issues(id),
    action       text NOT NULL,
    from_status  text,
    to_status    text,
    actor        text,
    note         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX history_issue ON history (issue_id, id);

-- Satisfaction after each resolution (round = issues.resolutions at the time).
CREATE TABLE feedback (
    issue_id    uuid NOT NULL REFERENCES issues(id),
    round       int NOT NULL,
    person_id   text NOT NULL,
    score       int NOT NULL CHECK (score BETWEEN 1 AND 5),
    fixed       boolean NOT NULL,
    comment     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issue_id, round, person_id)
);
