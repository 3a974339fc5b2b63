import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

// No <StrictMode>: it mounts pages twice, and a regulator's GET of a ticket is recorded in the
// trail (`regulator_viewed`), so a double mount would record two views.
createRoot(document.getElementById('root')!).render(<App />);
