//! The `products` contract table: read by the worker, written by the catalogue (and the demo).

use sqlx::PgExecutor;
use time::OffsetDateTime;

use crate::DbError;

/// A product as the worker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub description: Option<String>,
    /// Storage object key of the reference photo, if there is one.
    pub reference_image_key: Option<String>,
    pub created_at: OffsetDateTime,
}

/// A product to insert or update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewProduct<'a> {
    pub id: &'a str,
    pub client_id: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub reference_image_key: Option<&'a str>,
}

/// The products among `ids` that belong to `client_id`, ordered by id. Unknown ids and ids of
/// another client's products are simply absent: the caller decides what a missing product
/// means, and another client's product must look exactly like one that does not exist.
pub async fn products_for_client(
    db: impl PgExecutor<'_>,
    client_id: &str,
    ids: &[String],
) -> Result<Vec<Product>, DbError> {
    let rows = sqlx::query_as!(
        Product,
        r#"
        SELECT id, client_id, name, description, reference_image_key, created_at
        FROM products
        WHERE client_id = $1 AND id = ANY($2::text[])
        ORDER BY id
        "#,
        client_id,
        ids,
    )
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// Inserts a product, or updates it when the id exists for the same client. Returns false when
/// the id belongs to another client, which is left untouched.
pub async fn upsert_product(
    db: impl PgExecutor<'_>,
    product: &NewProduct<'_>,
) -> Result<bool, DbError> {
    let written = sqlx::query!(
        r#"
        INSERT INTO products (id, client_id, name, description, reference_image_key)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (id) DO UPDATE
            SET name = EXCLUDED.name,
                description = EXCLUDED.description,
                reference_image_key = EXCLUDED.reference_image_key
            WHERE products.client_id = EXCLUDED.client_id
        "#,
        product.id,
        product.client_id,
        product.name,
        product.description,
        product.reference_image_key,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(written == 1)
}

/// The demo catalogue [`seed_demo_products`] writes: (id suffix, name, description).
const DEMO_PRODUCTS: [(&str, &str, &str); 3] = [
    (
        "sofa",
        "Linen three-seat sofa",
        "A low, deep sofa in oat linen with oak legs.",
    ),
    (
        "lamp",
        "Brass arc floor lamp",
        "An arcing brushed-brass lamp with a white marble base.",
    ),
    (
        "chair",
        "Walnut lounge chair",
        "A curved walnut lounge chair with cognac leather cushions.",
    ),
];

/// Writes a small demo catalogue for `client_id` (ids `{client_id}-sofa`, `-lamp`, `-chair`,
/// no reference images) and returns the ids. Idempotent, so the demo can run it every time.
pub async fn seed_demo_products(
    db: &sqlx::PgPool,
    client_id: &str,
) -> Result<Vec<String>, DbError> {
    let mut ids = Vec::with_capacity(DEMO_PRODUCTS.len());
    for (suffix, name, description) in DEMO_PRODUCTS {
        let id = format!("{client_id}-{suffix}");
        upsert_product(
            db,
            &NewProduct {
                id: &id,
                client_id,
                name,
                description: Some(description),
                reference_image_key: None,
            },
        )
        .await?;
        ids.push(id);
    }
    Ok(ids)
}
