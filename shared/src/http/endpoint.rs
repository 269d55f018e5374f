//! What every route does around its own logic: the origin check, CORS preflight, the method and
//! body-size checks, CORS headers on every answer (errors too), and one log line per request.
//! Routes that browsers do not call (`Route::cors` false) skip the three CORS steps.

use std::future::Future;
use std::time::Instant;

use lambda_http::http::header::{ALLOW, HeaderValue, ORIGIN};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};

use crate::http::cors::CorsPolicy;
use crate::http::error::{ApiError, ErrorCode, excerpt};
use crate::http::route::Route;

impl Route {
    /// Answers `request`, calling `handle` only for a request that passed the common checks.
    /// Never fails: every outcome is a response.
    pub async fn serve<'r, F, Fut>(
        &self,
        cors: &CorsPolicy,
        request: &'r Request,
        handle: F,
    ) -> Response<Body>
    where
        F: FnOnce(&'r Request) -> Fut,
        Fut: Future<Output = Result<Response<Body>, ApiError>>,
    {
        let started = Instant::now();
        let origin = request
            .headers()
            .get(ORIGIN)
            .and_then(|value| value.to_str().ok());

        let outcome = match self.check(cors, origin, request) {
            Err(error) => Err(error),
            Ok(Some(preflight)) => Ok(preflight),
            Ok(None) => handle(request).await,
        };
        let error_code = outcome.as_ref().err().map(|error| error.code.as_str());
        if let Err(error) = &outcome
            && error.status.is_server_error()
        {
            tracing::error!(route = self.path, code = error.code.as_str(), message = %error.message, "request failed");
        }
        let mut response = outcome.unwrap_or_else(ApiError::into_response);
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            let allowed = if self.cors {
                format!("{}, OPTIONS", self.method)
            } else {
                self.method.to_string()
            };
            if let Ok(allow) = HeaderValue::from_str(&allowed) {
                response.headers_mut().insert(ALLOW, allow);
            }
        }
        if self.cors && origin.is_none_or(|origin| cors.allows(origin)) {
            cors.apply(origin, response.headers_mut());
        }

        let request_id = request
            .lambda_context_ref()
            .map(|context| context.request_id.as_str())
            .unwrap_or("-");
        tracing::info!(
            route = self.path,
            method = %request.method(),
            status = response.status().as_u16(),
            error = error_code.unwrap_or("-"),
            latency_us = started.elapsed().as_micros() as u64,
            request_id,
            "request"
        );
        response
    }

    /// `Ok(Some(_))` is a finished preflight answer, `Ok(None)` lets the route run.
    fn check(
        &self,
        cors: &CorsPolicy,
        origin: Option<&str>,
        request: &Request,
    ) -> Result<Option<Response<Body>>, ApiError> {
        if let Some(origin) = origin.filter(|origin| self.cors && !cors.allows(origin)) {
            return Err(ApiError::new(
                ErrorCode::OriginNotAllowed,
                format!(
                    "Origin {:?} is not in this API's ALLOWED_ORIGINS.",
                    excerpt(origin)
                ),
            ));
        }
        if self.cors && request.method() == Method::OPTIONS {
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::NO_CONTENT;
            cors.apply_preflight(origin, self.method.as_str(), response.headers_mut());
            return Ok(Some(response));
        }
        if request.method() != self.method {
            return Err(ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!("{} takes {} only.", self.path, self.method),
            ));
        }
        if body_length(request) > self.max_body_bytes {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("The body is larger than {} bytes.", self.max_body_bytes),
            ));
        }
        Ok(None)
    }
}

fn body_length(request: &Request) -> usize {
    match request.body() {
        Body::Empty => 0,
        Body::Text(text) => text.len(),
        Body::Binary(bytes) => bytes.len(),
        _ => 0,
    }
}
