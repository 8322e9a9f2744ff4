//! temp
fn main() {
    for _ in 0..5 {
        let b = rolecall_codecs::bench::topic_codec(200_000);
        println!("{b:?}");
    }
}
