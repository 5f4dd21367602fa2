-- Shared costs (谁受益谁承担): beneficiaries, meter readings, candidate plans, bills in fen.
CREATE TABLE shared_costs (
    id           uuid PRIMARY KEY,
    compound_id  uuid NOT NULL,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    usage_unit   text NOT NULL DEFAULT '',
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shared_costs_compound ON shared_costs (compound_id, created_at);

-- The beneficiary units as the directory registered them when the cost was set up.
CREATE TABLE cost_units (
    cost_id       uuid NOT NULL REFERENCES shared_costs(id),
    unit_id       uuid NOT NULL,
    building_id   uuid NOT NULL,
    building_name text NOT NULL,
    number        text NOT NULL,
    floor         int NOT NULL,
    area_centi    bigint NOT NULL CHECK (area_centi >= 0),
    PRIMARY KEY (cost_id, unit_id)
);

CREATE TABLE meter_readings (
    cost_id     uuid NOT NULL,
    unit_id     uuid NOT NULL,
    period      text NOT NULL,
    usage       numeric NOT NULL CHECK (usage >= 0),
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cost_id, period, unit_id),
    FOREIGN KEY (cost_id, unit_id) REFERENCES cost_units (cost_id, unit_id)
);

CREATE TABLE cost_plans (
    id          uuid PRIMARY KEY,
    cost_id     uuid NOT NULL REFERENCES shared_costs(id),
    name        text NOT NULL,
    method      jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'candidate'
                CHECK (status IN ('candidate', 'adopted', 'superseded')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    adopted_at  timestamptz,
    adopted_by  text,
    UNIQUE (cost_id, name)
);
CREATE UNIQUE INDEX cost_plans_one_adopted ON cost_plans (cost_id) WHERE status = 'adopted';

CREATE TABLE bills (
    id          uuid PRIMARY KEY,
    cost_id     uuid NOT NULL REFERENCES shared_costs(id),
    plan_id     uuid NOT NULL REFERENCES cost_plans(id),
    period      text NOT NULL,
    total_fen   bigint NOT NULL CHECK (total_fen >= 0),
    issued_by   text NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (cost_id, period)
);
CREATE TABLE bill_lines (
    bill_id     uuid NOT NULL REFERENCES bills(id),
    unit_id     uuid NOT NULL,
    amount_fen  bigint NOT NULL CHECK (amount_fen >= 0),
    PRIMARY KEY (bill_id, unit_id)
);
