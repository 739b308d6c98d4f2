use streamlib::prelude::*;

#[actor]
pub enum Camera {
    Front,
    Back,
}

fn main() {}
