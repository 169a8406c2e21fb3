extension CircuitBreakerBoard: TargetAvailability {}
