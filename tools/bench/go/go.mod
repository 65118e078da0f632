module usched.example/bench

go 1.23
