-- Durable history of generation jobs. The queue in Redis is the source of truth while a job
-- runs and trims old entries; this table keeps what happened for good.
CREATE TABLE generation_job (
    job_id               TEXT PRIMARY KEY,
    client_id            TEXT NOT NULL CHECK (client_id <> ''),
    session_id           TEXT NOT NULL CHECK (session_id <> ''),
    type                 TEXT NOT NULL CHECK (type <> ''),
    -- The queue's three lanes (scenergy-queue's Priority).
    priority             TEXT NOT NULL DEFAULT 'normal'
                         CHECK (priority IN ('urgent', 'normal', 'batch')),
    state                TEXT NOT NULL DEFAULT 'queued'
                         CHECK (state IN ('queued', 'active', 'completed', 'failed', 'cancelled')),
    prompt               TEXT NOT NULL DEFAULT '',
    settings             JSONB NOT NULL DEFAULT '{}'::jsonb,
    product_ids          TEXT[] NOT NULL CHECK (cardinality(product_ids) >= 1),
    -- The enqueue function accepts 1 to 4; the same bound here stops a bad writer elsewhere.
    variants_per_product INTEGER NOT NULL CHECK (variants_per_product BETWEEN 1 AND 4),
    attempts             INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    error                TEXT,
    result               JSONB,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at           TIMESTAMPTZ,
    finished_at          TIMESTAMPTZ,

    -- A job is finished exactly when it is in a terminal state.
    CONSTRAINT generation_job_finished_iff_terminal CHECK (
        (finished_at IS NOT NULL) = (state IN ('completed', 'failed', 'cancelled'))
    ),
    -- Running or completed work has started; a job cancelled or rejected while queued need not.
    CONSTRAINT generation_job_started_when_running CHECK (
        state NOT IN ('active', 'completed') OR started_at IS NOT NULL
    ),
    CONSTRAINT generation_job_started_counts_attempt CHECK (
        started_at IS NULL OR attempts >= 1
    ),
    CONSTRAINT generation_job_finish_after_start CHECK (
        finished_at IS NULL OR started_at IS NULL OR finished_at >= started_at
    ),
    -- A failure always says why.
    CONSTRAINT generation_job_failed_has_error CHECK (
        state <> 'failed' OR error IS NOT NULL
    ),
    -- Lets generated_asset reference (job_id, client_id) so an asset can never belong to a
    -- different client than its job.
    CONSTRAINT generation_job_id_client_key UNIQUE (job_id, client_id)
);

CREATE INDEX generation_job_client_created_idx ON generation_job (client_id, created_at DESC);
