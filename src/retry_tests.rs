//! Release delays grow with the receive count, jittered, and stay capped.

use super::*;

#[test]
fn release_delay_grows_and_is_capped() {
    for _ in 0..50 {
        let d1 = release_delay(1).as_secs_f64();
        assert!((4.0..=6.0).contains(&d1), "{d1}");
        let d3 = release_delay(3).as_secs_f64();
        assert!((16.0..=24.0).contains(&d3), "{d3}");
        assert!(release_delay(40) <= Duration::from_secs(900));
    }
}
