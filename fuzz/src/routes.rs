//! The routes the request targets call, and how: on the deployment's state and the one runtime,
//! through the same entry point as the functions (`shared::test_support::answer`).

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::routes;

use crate::deployments::{Deployment, fixtures};
use crate::invariants::assert_response_invariants;

/// The routes of `shared::routes::API` and their handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Join,
    GetToken,
    CreateMeeting,
    ValidateMeeting,
}

impl Route {
    pub const ALL: [Route; 4] = [
        Route::Join,
        Route::GetToken,
        Route::CreateMeeting,
        Route::ValidateMeeting,
    ];

    /// The route as the registry writes it.
    pub fn registered(self) -> &'static shared::http::route::Route {
        match self {
            Self::Join => &routes::JOIN,
            Self::GetToken => &routes::GET_TOKEN,
            Self::CreateMeeting => &routes::CREATE_MEETING,
            Self::ValidateMeeting => &routes::VALIDATE_MEETING,
        }
    }

    /// The route's path up to its parameter (`/validate-meeting` for
    /// `/validate-meeting/{meetingId}`).
    pub fn path(self) -> &'static str {
        let path = self.registered().path;
        path.split_once("/{").map_or(path, |(fixed, _)| fixed)
    }

    pub fn method(self) -> Method {
        self.registered().method.clone()
    }

    /// Runs the route's handler, as its Lambda binary does.
    pub fn call(self, deployment: Deployment, request: Request) -> Response<Body> {
        let fixtures = fixtures();
        let state = fixtures.state(deployment);
        fixtures.run(shared::test_support::answer(
            self.registered(),
            state,
            request,
        ))
    }

    /// Calls the route and checks every invariant of its answer.
    pub fn call_and_check(self, deployment: Deployment, request: Request) {
        let response = self.call(deployment, request);
        assert_response_invariants(&response);
        self.assert_success_invariants(&response);
    }
}
