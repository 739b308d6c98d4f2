use streamlib::prelude::*;

#[actor]
fn doubler(value: i64) -> i64 {
    value * 2
}

fn main() {}
