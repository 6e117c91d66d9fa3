export { alarmHasActions } from "./alarm-has-actions";
export { requiredAlarms } from "./required-alarms";
export { snsKms } from "./sns-kms";
