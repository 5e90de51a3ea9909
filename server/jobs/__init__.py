"""Jobs (work orders), appointments, hotline calls, complaints and the working-day calendar."""
