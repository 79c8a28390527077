"""What this machine has: facts as the OS and drivers report them. Knows nothing of Qt."""
