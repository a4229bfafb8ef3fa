// Bad configuration found at start-up. Library code throws it with a message that names the
// setting; the launcher prints the message and exits 2.
export class SettingError extends Error {}
