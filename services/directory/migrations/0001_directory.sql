-- The register of compounds, their exclusive units, owners, households and 1+3+N organisations.
CREATE TABLE compounds (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    community   text NOT NULL,
    street      text NOT NULL,
    district    text NOT NULL DEFAULT '',
    address     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE buildings (
    id          uuid PRIMARY KEY,
    compound_id uuid NOT NULL REFERENCES compounds(id),
    name        text NOT NULL,
    floors      int NOT NULL CHECK (floors BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (compound_id, name)
);

-- 专有部分: area in hundredths of m², exact.
CREATE TABLE units (
    id          uuid PRIMARY KEY,
    compound_id uuid NOT NULL REFERENCES compounds(id),
    building_id uuid NOT NULL REFERENCES buildings(id),
    floor       int NOT NULL,
    number      text NOT NULL,
    area_centi  bigint NOT NULL CHECK (area_centi > 0),
    status      text NOT NULL CHECK (status IN ('unsold', 'sold', 'delivered')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (building_id, number)
);
CREATE INDEX units_compound ON units (compound_id, id);

CREATE TABLE people (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    phone       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX people_phone ON people (phone) WHERE phone IS NOT NULL;

CREATE TABLE ownerships (
    unit_id     uuid NOT NULL REFERENCES units(id),
    person_id   uuid NOT NULL REFERENCES people(id),
    since       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_id, person_id)
);
CREATE INDEX ownerships_person ON ownerships (person_id);

CREATE TABLE households (
    id          uuid PRIMARY KEY,
    compound_id uuid NOT NULL REFERENCES compounds(id),
    unit_id     uuid NOT NULL REFERENCES units(id),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE residents (
    household_id uuid NOT NULL REFERENCES households(id),
    person_id    uuid NOT NULL REFERENCES people(id),
    relation     text NOT NULL,
    PRIMARY KEY (household_id, person_id)
);

CREATE TABLE organisations (
    id          uuid PRIMARY KEY,
    compound_id uuid NOT NULL REFERENCES compounds(id),
    kind        text NOT NULL,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (compound_id, kind, name)
);

CREATE TABLE roles (
    id              uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations(id),
    person_id       uuid NOT NULL REFERENCES people(id),
    title           text NOT NULL,
    starts_on       date NOT NULL,
    ends_on         date,
    CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX roles_org ON roles (organisation_id);
