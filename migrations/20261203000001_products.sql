-- Products a client owns. This table is a contract shared with the catalogue side: the worker
-- only reads it (for names, descriptions and reference images), so its columns stay minimal and
-- must not be renamed.
CREATE TABLE products (
    id                  TEXT PRIMARY KEY,
    client_id           TEXT NOT NULL CHECK (client_id <> ''),
    name                TEXT NOT NULL,
    description         TEXT,
    -- An object key in the storage bucket, not a URL, so moving buckets or CDNs needs no rewrite.
    reference_image_key TEXT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every read is "these ids, for this client"; the primary key serves the ids and this index
-- serves listing a client's catalogue.
CREATE INDEX products_client_id_idx ON products (client_id);
