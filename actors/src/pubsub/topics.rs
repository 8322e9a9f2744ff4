//! The course's nine topics, each with its value generator, and the seeded
//! choice of a role's interest (`-T num_topics`).

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// The nine topics, in the course's order.
pub const TOPICS: [&str; 9] = [
    "weather",
    "humidity",
    "airquality",
    "light",
    "pressure",
    "temperature",
    "sound",
    "altitude",
    "location",
];

/// Whether `name` is one of the nine topics.
pub fn is_known(name: &str) -> bool {
    TOPICS.contains(&name)
}

/// `n` (1-9) distinct topics chosen at random from `seed`, as the course's
/// `TopicSelector.interest(n)`.
pub fn interest(n: usize, seed: u64) -> Vec<String> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut all: Vec<&str> = TOPICS.to_vec();
    all.shuffle(&mut rng);
    all.into_iter()
        .take(n.clamp(1, TOPICS.len()))
        .map(str::to_owned)
        .collect()
}

/// One value of `topic`, drawn from the course's generator for it (an
/// unknown topic gets a random integer, so that a student's tenth topic works).
pub fn value(topic: &str, rng: &mut impl Rng) -> String {
    fn pick(rng: &mut impl Rng, items: &[&str]) -> String {
        items[rng.random_range(0..items.len())].to_owned()
    }
    match topic {
        "weather" => pick(rng, &["sunny", "cloudy", "rainy", "foggy", "icy"]),
        "humidity" => format!("{:.1}", rng.random_range(10.0..=100.0f64)),
        "airquality" => pick(rng, &["good", "smog", "poor"]),
        "light" => pick(rng, &["450", "800", "1100", "1600"]),
        "pressure" => rng.random_range(870..=1084).to_string(),
        "temperature" => rng.random_range(-100..=100).to_string(),
        "sound" => rng.random_range(30..=95).to_string(),
        "altitude" => rng.random_range(0..=40000).to_string(),
        "location" => pick(rng, &["America", "Europe", "Asia", "Africa", "Australia"]),
        _ => rng.random_range(0..1000).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_is_seeded_distinct_and_known() {
        for n in 1..=9 {
            let a = interest(n, 7);
            assert_eq!(a, interest(n, 7));
            assert_eq!(a.len(), n);
            let mut sorted = a.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), n);
            assert!(a.iter().all(|t| is_known(t)));
        }
        assert_eq!(interest(0, 1).len(), 1);
        assert_eq!(interest(20, 1).len(), 9);
    }

    #[test]
    fn values_are_in_range() {
        let mut rng = SmallRng::seed_from_u64(3);
        for _ in 0..200 {
            let t: i32 = value("temperature", &mut rng).parse().unwrap();
            assert!((-100..=100).contains(&t));
            let p: i32 = value("pressure", &mut rng).parse().unwrap();
            assert!((870..=1084).contains(&p));
            let h: f64 = value("humidity", &mut rng).parse().unwrap();
            assert!((10.0..=100.0).contains(&h));
            assert!(["good", "smog", "poor"].contains(&value("airquality", &mut rng).as_str()));
        }
    }
}
