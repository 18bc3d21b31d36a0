export {
  JsonType,
  MAX_DEPTH,
  ObjectScanner,
  ArrayScanner,
  validateValue,
  unescapeString,
} from "./scanner";
export { writeString, writeStringContent } from "./writer";
