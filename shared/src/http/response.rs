//! JSON answers, as text: API Gateway then passes them on as they are (`isBase64Encoded: false`),
//! readable in `sam local invoke` and `cargo lambda invoke` output.

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

/// Marks an answer as not to be stored by any cache: answers carry tokens, or say whether a
/// token or meeting is valid now.
pub(crate) fn no_store(response: &mut Response<Body>) {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
}

/// A JSON response with the right content type.
pub(crate) fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    // Serialising our own plain structs cannot fail; should it ever, the client still gets JSON.
    let text = serde_json::to_string(body).unwrap_or_else(|_| {
        r#"{"error":{"code":"internal_error","message":"The response could not be encoded."}}"#
            .to_owned()
    });
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}
