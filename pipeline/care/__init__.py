"""Customer care (客户维护): revisit cadence, calls, greetings, complaints and satisfaction."""
