use streamlib::prelude::*;

#[actor]
pub struct Doubler(Input<i64>, Output<i64>);

fn main() {}
