import MultiProdigyRouting

extension CircuitBreakerBoard: TargetAvailability {}
