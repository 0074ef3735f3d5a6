import { render } from 'preact';
import { App } from './app.js';
import { createDashboard } from './dashboard.js';
import './styles.css';

/** Entry point of the bundle (src/dashboard/build.ts): build the model, render the shell. */
const root = document.getElementById('root');
if (root) render(<App model={createDashboard()} />, root);
