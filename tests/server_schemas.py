"""Source schemas for the server tests: every type and constraint the issue lists, with
awkward identifiers, and a few rows of awkward values (all fake)."""

from __future__ import annotations

PG_SCHEMA = r"""
CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA sales;
CREATE TYPE mood AS ENUM ('happy', 'sad', 'it''s complicated');
CREATE TYPE sales.status AS ENUM ('new', 'paid', 'shipped');
CREATE SEQUENCE invoice_no START 1000;
CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    uid uuid NOT NULL DEFAULT gen_random_uuid(),
    email varchar(60) NOT NULL UNIQUE,
    phone varchar(24),
    full_name text,
    login citext,
    profile jsonb DEFAULT '{}'::jsonb,
    settings json,
    balance numeric(12,2) NOT NULL DEFAULT 0,
    big numeric(30,10),
    anynum numeric,
    created_at timestamptz NOT NULL DEFAULT now(),
    local_ts timestamp(3),
    birth date,
    wake time,
    avatar bytea,
    tags text[],
    scores integer[],
    mood mood,
    moods mood[],
    active boolean NOT NULL DEFAULT true,
    ratio double precision,
    small real,
    waited interval,
    "Mixed Case" text,
    "select" integer,
    "ünïcode" text
);
COMMENT ON TABLE customers IS 'people who buy';
COMMENT ON COLUMN customers.email IS 'primary contact';
CREATE INDEX ix_customers_created ON customers (created_at DESC);
CREATE INDEX ix_customers_lower_email ON customers (lower(email));
CREATE INDEX ix_customers_active ON customers (birth) WHERE active;
CREATE TABLE sales."Order Items" (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    status sales.status NOT NULL DEFAULT 'new',
    invoice integer DEFAULT nextval('invoice_no'),
    qty smallint CHECK (qty > 0),
    price numeric(10,2),
    total numeric(12,2) GENERATED ALWAYS AS (qty * price) STORED,
    UNIQUE (customer_id, invoice)
);
CREATE TABLE sales.notes (
    id serial PRIMARY KEY,
    item_id integer REFERENCES sales."Order Items"(id),
    body text
);
"""

PG_ROWS = r"""
INSERT INTO customers (email, phone, full_name, login, profile, settings, balance, big, anynum,
    created_at, local_ts, birth, wake, avatar, tags, scores, mood, moods, active, ratio, small,
    waited, "Mixed Case", "select", "ünïcode")
VALUES
 ('Ann.Lee@Mail.example.org', '+1 (415) 555-2671 x12', 'Ann Lee', 'AnnL',
  '{"a": 1.50, "nested": {"k": [1, 2, null]}, "s": "tab\there"}', '{"keep":   "spacing"}',
  1234567890.12, 12345678901234567890.0123456789, 1.100, '2024-02-29 23:59:59.123456+05:30',
  '2024-01-01 10:00:00.123', '1985-07-04', '07:30:00', '\x00ff0a5c',
  ARRAY['a', 'b,c', 'd"e', NULL, ''], '{1,NULL,3}', 'it''s complicated', '{happy,sad}', true,
  1.0000000000000002, 3.14159, '1 mon 2 days 03:04:05.5', 'Mixed', 7, 'Zoë Ünïcödé'),
 ('bob@example.net', '', NULL, NULL, 'null', NULL, 0, NULL, 'NaN', '1970-01-01 00:00:00+00',
  NULL, NULL, NULL, '\x', '{}', NULL, NULL, NULL, false, 'Infinity', '-0', '-00:00:01',
  E'line\nbreak', NULL, ''),
 ('carol@example.com', NULL, E'quote " and \\ backslash', NULL, NULL, NULL, -5.5, NULL, NULL,
  'infinity', '-infinity', '0044-03-15 BC', '24:00:00', NULL, NULL, NULL, 'happy', NULL, true,
  'NaN', NULL, '0', E'\\.', NULL, NULL);
INSERT INTO sales."Order Items" (customer_id, status, qty, price)
SELECT id, 'paid', 2, 9.99 FROM customers;
INSERT INTO sales.notes (item_id, body) SELECT id, 'note ' || id FROM sales."Order Items";
"""

MYSQL_SCHEMA = r"""
CREATE TABLE customers (
    id int unsigned NOT NULL AUTO_INCREMENT,
    email varchar(60) NOT NULL,
    phone varchar(24) DEFAULT NULL,
    full_name varchar(100) CHARACTER SET latin1 COLLATE latin1_general_ci DEFAULT NULL,
    kind enum('retail','wholesale','it''s odd') NOT NULL DEFAULT 'retail',
    balance decimal(12,2) NOT NULL DEFAULT 0.00,
    big bigint unsigned DEFAULT NULL,
    tiny tinyint DEFAULT NULL,
    flag tinyint(1) NOT NULL DEFAULT 1,
    created datetime(6) NOT NULL DEFAULT current_timestamp(6),
    updated timestamp NULL DEFAULT NULL ON UPDATE current_timestamp(),
    birth date DEFAULT NULL,
    wake time(3) DEFAULT NULL,
    yr year DEFAULT NULL,
    ratio double DEFAULT NULL,
    small float DEFAULT NULL,
    avatar blob,
    token varbinary(16) DEFAULT NULL,
    doc json DEFAULT NULL,
    uid uuid DEFAULT NULL,
    notes text,
    `Mixed Case` varchar(10) DEFAULT NULL,
    `select` int DEFAULT NULL,
    `ünïcode` varchar(20) DEFAULT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_email (email),
    KEY ix_created (created),
    KEY ix_name_prefix (full_name(10)),
    FULLTEXT KEY ft_notes (notes),
    CONSTRAINT chk_balance CHECK (balance > -1000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='people who buy';
CREATE TABLE `order items` (
    id bigint NOT NULL AUTO_INCREMENT,
    customer_id int unsigned NOT NULL,
    qty smallint unsigned NOT NULL,
    price decimal(10,2) NOT NULL,
    total decimal(12,2) AS (qty * price) STORED,
    PRIMARY KEY (id),
    KEY ix_customer (customer_id),
    CONSTRAINT fk_items_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
"""

MYSQL_ROWS = [
    r"""INSERT INTO customers (email, phone, full_name, kind, balance, big, tiny, flag, created,
        updated, birth, wake, yr, ratio, small, avatar, token, doc, uid, notes, `Mixed Case`,
        `select`, `ünïcode`) VALUES
     ('Ann.Lee@Mail.example.org', '+44 20 7946 0958', 'Ann Lée', 'it''s odd', 1234567890.12,
      18446744073709551615, -128, 0, '2024-02-29 23:59:59.123456', '2024-01-01 10:00:00',
      '1985-07-04', '-838:59:59.000', 2024, 1.0000000000000002, 3.14159, x'00ff0a5c',
      x'000102030405060708090a0b0c0d0e0f', '{"a": 1.50, "b": [1, null]}',
      '123e4567-e89b-12d3-a456-426614174000', 'tab\there', 'Mixed', 7, 'Zoë'),
     ('bob@example.net', '', NULL, 'retail', 0, 0, NULL, 1, '1970-01-01 00:00:01', NULL, NULL,
      NULL, NULL, NULL, NULL, x'', NULL, 'null', NULL, 'quote " and \\ backslash', '', NULL, '')""",
    """INSERT INTO `order items` (customer_id, qty, price) SELECT id, 2, 9.99 FROM customers""",
]
