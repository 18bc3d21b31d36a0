export {
  JsonType,
  MAX_DEPTH,
  ObjectScanner,
  ArrayScanner,
  validateValue,
  unescapeString,
  nestedTooDeeply,
} from "./scanner";
export { writeString, writeStringContent } from "./writer";
export { DecodedString } from "./decoded";
export { isValidUtf8 } from "./utf8";
