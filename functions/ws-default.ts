// $default: frames that are not JSON, too large, or name no known action.
import { defaultRoute } from "./edge/ws.ts";

export const handler = defaultRoute;
