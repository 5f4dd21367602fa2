-- Council meetings: invitations, agenda, attendance, opinions per speaker, outcomes, actions,
-- minutes (draft → approved → published for a notice period).
CREATE TABLE meetings (
    id               uuid PRIMARY KEY,
    compound_id      uuid NOT NULL,
    kind             text NOT NULL,
    title            text NOT NULL,
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    place            text,
    online_url       text,
    convener_org_id  uuid NOT NULL,
    convener_name    text NOT NULL,
    status           text NOT NULL DEFAULT 'convened' CHECK (status IN ('convened', 'cancelled')),
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (place IS NOT NULL OR online_url IS NOT NULL)
);
CREATE INDEX meetings_compound ON meetings (compound_id, starts_at);

CREATE TABLE meeting_organisations (
    meeting_id      uuid NOT NULL REFERENCES meetings(id),
    organisation_id uuid NOT NULL,
    kind            text NOT NULL,
    name            text NOT NULL,
    PRIMARY KEY (meeting_id, organisation_id)
);

-- invited people: named ones (organisation_id NULL) and the members of invited organisations
CREATE TABLE invitees (
    meeting_id      uuid NOT NULL REFERENCES meetings(id),
    person_id       uuid NOT NULL,
    organisation_id uuid,
    name            text NOT NULL DEFAULT '',
    rsvp            text CHECK (rsvp IN ('yes', 'no', 'maybe')),
    PRIMARY KEY (meeting_id, person_id)
);

CREATE TABLE attendance (
    meeting_id      uuid NOT NULL REFERENCES meetings(id),
    person_id       uuid NOT NULL,
    checked_in_by   text NOT NULL,
    checked_in_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, person_id)
);

CREATE TABLE agenda_items (
    id            uuid PRIMARY KEY,
    compound_id   uuid NOT NULL,
    meeting_id    uuid REFERENCES meetings(id),
    position      int,
    title         text NOT NULL,
    source        text NOT NULL CHECK (source IN ('issue', 'proposal', 'free')),
    issue_id      uuid,
    proposal_id   uuid,
    presenter     text NOT NULL DEFAULT '',
    minutes       int NOT NULL DEFAULT 15 CHECK (minutes BETWEEN 1 AND 480),
    outcome       text CHECK (outcome IN ('consensus', 'vote', 'deferred', 'referred')),
    outcome_note  text NOT NULL DEFAULT '',
    vote_id       uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (meeting_id, position)
);
-- an escalated issue is proposed as an item once, however often the event arrives
CREATE UNIQUE INDEX agenda_items_issue ON agenda_items (compound_id, issue_id)
    WHERE issue_id IS NOT NULL AND meeting_id IS NULL;
CREATE INDEX agenda_items_unscheduled ON agenda_items (compound_id, created_at)
    WHERE meeting_id IS NULL;

CREATE TABLE item_opinions (
    id              uuid PRIMARY KEY,
    item_id         uuid NOT NULL REFERENCES agenda_items(id),
    speaker_id      uuid NOT NULL,
    speaker_name    text NOT NULL DEFAULT '',
    organisation_id uuid,
    stance          text NOT NULL CHECK (stance IN ('support', 'oppose', 'suggest')),
    text            text NOT NULL,
    recorded_by     text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX item_opinions_item ON item_opinions (item_id, recorded_at);

CREATE TABLE follow_up_actions (
    id              uuid PRIMARY KEY,
    item_id         uuid NOT NULL REFERENCES agenda_items(id),
    title           text NOT NULL,
    organisation_id uuid NOT NULL,
    due_on          date NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE minutes (
    meeting_id    uuid PRIMARY KEY REFERENCES meetings(id),
    status        text NOT NULL CHECK (status IN ('draft', 'approved', 'published')),
    text          text NOT NULL,
    edited_by     text NOT NULL,
    approved_by   text,
    approved_at   timestamptz,
    published_at  timestamptz,
    notice_until  timestamptz
);
