-- Proposals, their numbered versions, consultation and opinions per version.
CREATE TABLE proposals (
    id              uuid PRIMARY KEY,
    compound_id     uuid NOT NULL,
    title           text NOT NULL,
    matter          text NOT NULL,
    status          text NOT NULL DEFAULT 'draft',
    current_version int NOT NULL DEFAULT 1,
    funding         text,
    attachments     text[] NOT NULL DEFAULT '{}',
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX proposals_compound ON proposals (compound_id, created_at DESC, id);

CREATE TABLE proposal_versions (
    proposal_id     uuid NOT NULL REFERENCES proposals(id),
    number          int NOT NULL CHECK (number >= 1),
    body            text NOT NULL,
    change_summary  text NOT NULL DEFAULT '',
    budget_fen      bigint CHECK (budget_fen >= 0),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (proposal_id, number)
);

-- One consultation per proposal; reopening moves it to the current version.
CREATE TABLE consultations (
    proposal_id     uuid PRIMARY KEY REFERENCES proposals(id),
    version         int NOT NULL,
    status          text NOT NULL CHECK (status IN ('open', 'closed')),
    opens_at        timestamptz NOT NULL,
    closes_at       timestamptz NOT NULL,
    closed_at       timestamptz
);
CREATE INDEX consultations_due ON consultations (closes_at) WHERE status = 'open';

CREATE TABLE opinions (
    id              uuid PRIMARY KEY,
    proposal_id     uuid NOT NULL REFERENCES proposals(id),
    version         int NOT NULL,
    person_id       text NOT NULL,
    stance          text NOT NULL CHECK (stance IN ('support', 'oppose', 'suggest')),
    text            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (proposal_id, version) REFERENCES proposal_versions (proposal_id, number)
);
CREATE INDEX opinions_proposal ON opinions (proposal_id, version, created_at, id);
