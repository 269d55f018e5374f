//! The route registry for the benchmark scripts (`scripts/bench-coldstart`): one line per
//! function (its first route, where it answers several), `function<TAB>path<TAB>method<TAB>event`,
//! the event being the one it is timed on.

fn main() {
    let mut seen = Vec::new();
    for route in &shared::routes::ALL {
        if seen.contains(&route.name) {
            continue;
        }
        seen.push(route.name);
        println!(
            "{}\t{}\t{}\t{}",
            route.name,
            route.path,
            route.method,
            api_benches::timed_event(route)
        );
    }
}
