"""Place names of the demo territory (streets, hamlets, farms): invented, in the Auvergne manner."""

ROW_NAMES = [
    "Rue des Tanneurs",
    "Rue du Couvent",
    "Rue des Chaumes",
    "Rue Gaspard-Monge",
    "Rue Jean-Jaurès",
    "Avenue de la République",
    "Rue des Gras",
    "Rue des Remparts",
    "Rue du Onze-Novembre",
    "Rue de la Treille",
    "Rue des Vignerons",
]
COL_NAMES = [
    "Rue du Pré-Long",
    "Rue des Augustins",
    "Rue Pasteur",
    "Boulevard Lafayette",
    "Rue Saint-Genès",
    "Boulevard Vercingétorix",
    "Rue de la Halle",
    "Rue Blaise-Pascal",
    "Boulevard Desaix",
    "Rue des Jardins",
    "Rue de la Source",
]
VILLAGE_STREETS = [
    "Rue du Lavoir",
    "Grande Rue",
    "Rue du Four",
    "Chemin des Écoliers",
    "Rue de l'Église",
    "Rue des Granges",
]
HAMLET_NAMES = [
    "La Prade",
    "Le Bouchet",
    "Les Côtes",
    "Fontfreyde",
    "La Vialle",
    "Le Cheix",
    "Montcervier",
    "La Roche-Noire",
    "Les Cheires",
    "Le Pradal",
    "Chaumont",
    "La Moutade",
]
FARM_NAMES = [
    "Ferme des Granges",
    "GAEC du Puy-Vert",
    "Ferme de la Combe",
    "Ferme du Bois-Joli",
    "GAEC des Estives",
    "Ferme de Pailhès",
    "Ferme de la Sagne",
    "GAEC du Montel",
    "Ferme des Brandes",
    "Ferme du Jouvet",
    "GAEC de la Narse",
    "Ferme de Chassagne",
]
