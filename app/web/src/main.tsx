import { Buffer } from "buffer";
import { render } from "preact";
import { App } from "./app.tsx";
import "./style.css";

// web3.js and Anchor's browser builds expect a global Buffer in places.
(globalThis as { Buffer?: typeof Buffer }).Buffer ??= Buffer;

render(<App />, document.getElementById("app")!);
