/**
 * The content rule of WebSocket frames and HTTP posts: the runtime's own (runtime.post applies it too), so the
 * gateway refuses with GATEWAY_ERR_CONTENT_INVALID exactly what the runtime would refuse.
 */
export { contentProblem } from '../actors/input-rules';
