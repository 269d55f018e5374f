//! The route registry for the benchmark scripts (`scripts/bench-coldstart`): one line per route,
//! `function<TAB>path<TAB>method<TAB>event`, the event being the one it is timed on.

fn main() {
    for route in &shared::routes::ALL {
        println!(
            "{}\t{}\t{}\t{}",
            route.name,
            route.path,
            route.method,
            api_benches::timed_event(route)
        );
    }
}
