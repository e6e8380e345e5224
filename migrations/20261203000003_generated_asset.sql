-- One row per stored image. A retried or recovered job inserts with ON CONFLICT DO NOTHING on
-- (job_id, product_id, variant_index) and skips items already here, so no image is paid twice.
CREATE TABLE generated_asset (
    id            TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text,
    job_id        TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    -- Not a foreign key to products: history must survive a product being deleted.
    product_id    TEXT NOT NULL CHECK (product_id <> ''),
    variant_index INTEGER NOT NULL CHECK (variant_index BETWEEN 0 AND 3),
    object_key    TEXT NOT NULL CHECK (object_key <> ''),
    url           TEXT NOT NULL CHECK (url <> ''),
    content_type  TEXT NOT NULL CHECK (content_type LIKE '%/%'),
    width         INTEGER CHECK (width > 0),
    height        INTEGER CHECK (height > 0),
    bytes         BIGINT NOT NULL CHECK (bytes >= 0),
    provider      TEXT NOT NULL CHECK (provider IN ('gemini', 'offline')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT generated_asset_item_key UNIQUE (job_id, product_id, variant_index),
    -- Keys are deterministic per item, so two rows with one key would mean two items share an
    -- object and one overwrote the other.
    CONSTRAINT generated_asset_object_key_key UNIQUE (object_key),
    CONSTRAINT generated_asset_job_fkey FOREIGN KEY (job_id, client_id)
        REFERENCES generation_job (job_id, client_id) ON DELETE CASCADE
);
