// The page's words in French and English. Static text carries data-i18n="key" (its text) or
// data-i18n-attr="attribute:key;..." (attributes); dynamic text calls t(key, values).

const WORDS = {
  fr: {
    skip_panel: "Aller au panneau",
    tagline: "Se déplacer dans le territoire",
    switch_to: "English",
    switch_label: "Switch to English",
    panel_title: "Outils",
    tab_journey: "Itinéraire",
    tab_isochrones: "Isochrones",
    tab_territory: "Territoire",
    tab_ondemand: "À la demande",
    origin: "Départ",
    destination: "Arrivée",
    suggestions: "Suggestions",
    pick_hint: "Ou cliquez sur la carte : premier clic départ, second clic arrivée.",
    origin_centre: "Départ au centre de la carte",
    destination_centre: "Arrivée au centre de la carte",
    swap: "Inverser",
    when: "Date et heure",
    window: "Itinéraires proposés",
    window_first: "Le premier seulement",
    window_1h: "Sur une heure",
    window_2h: "Sur deux heures",
    represents: "L'heure est celle du",
    departure: "départ",
    arrival: "arrivée",
    wheelchair: "Accessible en fauteuil roulant",
    plan: "Chercher un itinéraire",
    itineraries: "Itinéraires",
    map_label: "Carte du territoire",
    map_point: "Point choisi sur la carte",
    origin_marker: "Départ : {name}",
    destination_marker: "Arrivée : {name}",
    need_both: "Choisissez un départ et une arrivée.",
    planning: "Recherche des itinéraires…",
    found: "{n} itinéraire(s) trouvé(s).",
    none_found: "Aucun itinéraire.",
    journey_summary: "{dep} → {arr}, {min} min, {tr} correspondance(s), {walk} min à pied",
    leg_walk: "{start}–{end} à pied, {min} min{dist} : {from} → {to}",
    leg_street: "{start}–{end} {mode}, {min} min : {from} → {to}",
    leg_transit: "{start}–{end} {mode} {line}{head} : {from} → {to} ({n} arrêts entre)",
    towards: " direction {head}",
    stay_seated: " (restez à bord)",
    show_on_map: "Itinéraire {n}",
    line_label: "ligne {name}",
    iso_hint: "Cliquez sur la carte pour choisir le point de départ.",
    iso_from: "Point de départ",
    iso_from_help: "Choisi sur la carte",
    iso_centre: "Centre de la carte",
    iso_max: "Temps de trajet maximal",
    iso_go: "Calculer les isochrones",
    iso_need_point: "Choisissez un point de départ sur la carte.",
    iso_working: "Calcul des isochrones…",
    iso_done: "Isochrones dessinées : {cutoffs} min.",
    iso_missing: "Les isochrones ne sont pas encore servies par cette API.",
    minutes: "{n} min",
    diag_hint: "Diagnostic du territoire : accès de la population aux lieux de la vie courante.",
    diag_scenario: "Comparer avec un scénario",
    diag_none: "Aucun (état actuel)",
    diag_go: "Lancer le diagnostic",
    diag_queued: "Diagnostic en file d'attente…",
    diag_running: "Diagnostic en cours… {pct} %",
    diag_done: "Diagnostic terminé : {n} zones.",
    diag_failed: "Le diagnostic a échoué : {msg}",
    diag_missing: "Le diagnostic n'est pas encore servi par cette API.",
    diag_difference: "Différence avec le scénario",
    token: "Jeton d'accès (réservations)",
    token_help: "Gardé dans cet onglet seulement.",
    book_title: "Réserver un trajet",
    book_hint: "Cliquez sur la carte : premier clic prise en charge, second clic dépose.",
    pickup: "Prise en charge",
    dropoff: "Dépose",
    pickup_centre: "Prise en charge au centre",
    dropoff_centre: "Dépose au centre",
    earliest: "Prise en charge au plus tôt à (aujourd'hui)",
    passengers: "Passagers",
    book: "Réserver",
    book_need: "Choisissez une prise en charge et une dépose.",
    book_need_token: "Saisissez le jeton d'accès pour réserver.",
    booking: "Réservation en cours…",
    offer: "Réservé ({id}, véhicule {vehicle}) : prise en charge entre {from} et {to}, dépose au plus tard à {drop}.",
    refusal: "Refusé : {reason}",
    plans_title: "Tournées du jour et plan de la navette",
    vehicle: "Véhicule",
    show_plan: "Afficher le plan",
    plan_empty: "Aucun arrêt prévu.",
    plan_stop: "{time} {kind} : {place} {booking}",
    start_kind: "départ du dépôt",
    end_kind: "retour au dépôt",
    pickup_kind: "prise en charge",
    dropoff_kind: "dépose",
    loading: "Chargement de la carte…",
    ready: "Carte prête.",
    map_missing: "La bibliothèque de carte manque : lancez « make » (npm ci) puis rechargez.",
    error: "Erreur : {msg}",
    not_available: "Service indisponible (HTTP {status}).",
  },
  en: {
    skip_panel: "Skip to the panel",
    tagline: "Getting around the territory",
    switch_to: "Français",
    switch_label: "Passer en français",
    panel_title: "Tools",
    tab_journey: "Journey",
    tab_isochrones: "Isochrones",
    tab_territory: "Territory",
    tab_ondemand: "On demand",
    origin: "From",
    destination: "To",
    suggestions: "Suggestions",
    pick_hint: "Or click the map: first click sets the start, second click the destination.",
    origin_centre: "Start at the map centre",
    destination_centre: "Destination at the map centre",
    swap: "Swap",
    when: "Date and time",
    window: "Journeys shown",
    window_first: "The first only",
    window_1h: "Over one hour",
    window_2h: "Over two hours",
    represents: "The time is the",
    departure: "departure",
    arrival: "arrival",
    wheelchair: "Wheelchair accessible",
    plan: "Find a journey",
    itineraries: "Journeys",
    map_label: "Map of the territory",
    map_point: "Point chosen on the map",
    origin_marker: "Start: {name}",
    destination_marker: "Destination: {name}",
    need_both: "Choose a start and a destination.",
    planning: "Looking for journeys…",
    found: "{n} journey(s) found.",
    none_found: "No journey.",
    journey_summary: "{dep} → {arr}, {min} min, {tr} transfer(s), {walk} min walking",
    leg_walk: "{start}–{end} walk, {min} min{dist}: {from} → {to}",
    leg_street: "{start}–{end} {mode}, {min} min: {from} → {to}",
    leg_transit: "{start}–{end} {mode} {line}{head}: {from} → {to} ({n} stops between)",
    towards: " towards {head}",
    stay_seated: " (stay on board)",
    show_on_map: "Journey {n}",
    line_label: "line {name}",
    iso_hint: "Click the map to choose the starting point.",
    iso_from: "Starting point",
    iso_from_help: "Chosen on the map",
    iso_centre: "Map centre",
    iso_max: "Longest travel time",
    iso_go: "Compute isochrones",
    iso_need_point: "Choose a starting point on the map.",
    iso_working: "Computing isochrones…",
    iso_done: "Isochrones drawn: {cutoffs} min.",
    iso_missing: "This API does not serve isochrones yet.",
    minutes: "{n} min",
    diag_hint: "Territory diagnosis: how well people reach everyday places.",
    diag_scenario: "Compare with a scenario",
    diag_none: "None (as it is)",
    diag_go: "Run the diagnosis",
    diag_queued: "Diagnosis queued…",
    diag_running: "Diagnosis running… {pct} %",
    diag_done: "Diagnosis done: {n} zones.",
    diag_failed: "The diagnosis failed: {msg}",
    diag_missing: "This API does not serve diagnoses yet.",
    diag_difference: "Difference with the scenario",
    token: "Access token (bookings)",
    token_help: "Kept in this tab only.",
    book_title: "Book a ride",
    book_hint: "Click the map: first click sets the pickup, second click the drop-off.",
    pickup: "Pickup",
    dropoff: "Drop-off",
    pickup_centre: "Pickup at the centre",
    dropoff_centre: "Drop-off at the centre",
    earliest: "Earliest pickup (today)",
    passengers: "Passengers",
    book: "Book",
    book_need: "Choose a pickup and a drop-off.",
    book_need_token: "Enter the access token to book.",
    booking: "Booking…",
    offer: "Booked ({id}, vehicle {vehicle}): pickup between {from} and {to}, drop-off by {drop}.",
    refusal: "Refused: {reason}",
    plans_title: "Today's tours and the shuttle's plan",
    vehicle: "Vehicle",
    show_plan: "Show the plan",
    plan_empty: "No stop planned.",
    plan_stop: "{time} {kind}: {place} {booking}",
    start_kind: "leaves the depot",
    end_kind: "back at the depot",
    pickup_kind: "pickup",
    dropoff_kind: "drop-off",
    loading: "Loading the map…",
    ready: "Map ready.",
    map_missing: "The map library is missing: run `make` (npm ci), then reload.",
    error: "Error: {msg}",
    not_available: "Service unavailable (HTTP {status}).",
  },
};

let current = "fr";

/** The page's language ("fr" or "en"). */
export function lang() {
  return current;
}

/** The text of `key` in the current language, `{name}` replaced from `values`. */
export function t(key, values = {}) {
  const text = WORDS[current][key] ?? WORDS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : ""));
}

/** Set the language and translate every marked element under `root`. */
export function setLang(code, root = document) {
  current = code in WORDS ? code : "en";
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      el.setAttribute(attr, t(key));
    }
  }
}

/** The language to start with: the one chosen before, else the browser's if French. */
export function initialLang() {
  const saved = localStorage.getItem("arverne.lang");
  if (saved && saved in WORDS) return saved;
  return (navigator.language || "fr").toLowerCase().startsWith("fr") ? "fr" : "en";
}

/** Remember the language for the next visit. */
export function saveLang(code) {
  localStorage.setItem("arverne.lang", code);
}
