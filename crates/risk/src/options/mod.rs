//! European option pricing in fixed point.
//!
//! [`math`] provides `ln`, `exp`, `rsqrt`/`sqrt`, a division-free
//! reciprocal and the normal CDF using only multiplies (plus one native
//! `u64` division where a reciprocal is needed); [`black_scholes`] builds
//! the price and Greeks on top; [`risk_array`] revalues an option over the
//! group's scenario grid once per market for portfolio margin;
//! [`intrinsic`] is what an option pays at expiry. Every
//! function documents its multiply count so the on-chain compute cost is
//! bounded and predictable.

pub mod black_scholes;
pub mod intrinsic;
pub mod math;
pub mod risk_array;
mod tables;

#[cfg(test)]
pub(crate) mod op_count;
#[cfg(test)]
mod standard_manager_tests;
