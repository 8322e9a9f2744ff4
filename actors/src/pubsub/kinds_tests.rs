use super::*;

fn params(extra: &str) -> ClientParams {
    toml::from_str(&format!("id = \"p1\"\n{extra}")).expect("params")
}

#[test]
fn defaults_are_the_courses() {
    let p = params("");
    let c = p.driver_config(Kind::Publisher).unwrap();
    assert_eq!(c.discovery, "tcp://localhost:5555");
    assert_eq!(c.bind.as_deref(), Some("tcp://*:5577"));
    assert_eq!(c.info.port, Some(5577));
    assert_eq!((c.iters, c.frequency), (1000, 1.0));
    assert_eq!(c.topics.len(), 1);
    // A subscriber binds nothing and registers no port.
    let c = p.driver_config(Kind::Subscriber).unwrap();
    assert_eq!((c.bind, c.info.port), (None, None));
    // Seeded from the id: the same topics every run.
    let t = params("num_topics = 5").topics().unwrap();
    assert_eq!(t, params("num_topics = 5").topics().unwrap());
    assert_eq!(t.len(), 5);
}

#[test]
fn bad_parameters_are_errors() {
    let e = params("topics = [\"weather\", \"stocks\"]").driver_config(Kind::Subscriber);
    assert!(matches!(e, Err(ParamsError::UnknownTopic(t)) if t == "stocks"));
    let e = params("num_topics = 0").driver_config(Kind::Publisher);
    assert!(matches!(e, Err(ParamsError::NumTopics(0))));
    let e = params("frequency = -1.0").driver_config(Kind::Publisher);
    assert!(matches!(e, Err(ParamsError::Frequency(_))));
    let p: ClientParams = toml::from_str("id = \"\"").unwrap();
    assert!(matches!(
        p.driver_config(Kind::Publisher),
        Err(ParamsError::EmptyId)
    ));
    assert!(toml::from_str::<ClientParams>("id = \"x\"\nfrequncy = 2.0").is_err());
}
