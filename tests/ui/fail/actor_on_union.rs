use streamlib::prelude::*;

#[actor]
pub union Sample {
    int: i32,
    float: f32,
}

fn main() {}
