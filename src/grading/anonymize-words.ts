/**
 * Words that are also names, in the languages our courses write in (English, German, French, Spanish, Dutch, and
 * the function words of each). A classmate called Will, Rose, Koch or An makes "will", "rose", "koch" and "an"
 * name candidates; replacing every one would garble the text (the corpus counts such changes as false positives).
 * A name part in this list is only taken when written with a capital, and at the start of a sentence only when the
 * same person is named unmistakably elsewhere in the text (anonymize.ts).
 */
const WORDS = `
a an and are as at be but by do for from go he her him his i if in is it me my no not of on or our so the to up us we
was were who why with yes you all any art bay bell best bill black bliss bloom brown buck bush case cash chance chase
church cliff cook crow dale dawn day dean drew early faith field fisher ford fox frank free frost gay gene glen gold good
grace grant gray green grey guy hall hart hawk heath hill holly hope house hunt hunter iris ivy jack jade jay jewel joy
june july april august may king lamb lane law lee little long love major mark marsh mason may miles miller moon moss
nash noble north park pearl penny page pat price rain ray reed rich river rob rock rose ruby rush sage salt sandy
sharp short silver sky small snow sparks spring stone storm strong summer sunny swan tall turner violet ward
waters west white will winter wolf wood woods young baker carter fuller hope hunter marshall palmer
porter potter sawyer shepherd singer walker weaver wells clay cross dove earl jolly lord
pope rice sterling victor victoria wise worth
aber als am an auch auf aus bei bin bis da das dass dein dem den der des dich die dir du ein eine einem einen einer
er es für hat ich ihr im in ist ja kein man mit nach nicht noch nur ob oder ohne sie sind so über um und uns von vor
war was wer wie wir zu zum zur adler bach bär baer bauer berg brand braun busch engel ernst falk feld fischer frei
fromm fuchs glück graf gut haas hahn hase hart held herz hoch jung kaiser klein koch könig koenig kraus kurz lang
lange licht mai mann mond müller mueller richter roth rot sauer schäfer schaefer schneider schuster schwarz see sommer
sonne stein stern vogel wagner wald weber weiss weiß wolff zimmermann
à au aux avec ce ces dans de des du elle en est et il je la le les leur lui ma mais me mes mon ne nous on ou par pas
pour qui sa se ses si son sur ta te tes toi ton tu un une vous belle blanc blanche bois bon boulanger brun brune
chevalier claire constant fontaine fort grand gros jolie lebrun marchand marin meunier noël noel olive petit pierre
roux rose violette aimé amour
al como con del el ella en es esta este ha la las lo los mas más mi no nos o para pero por que qué se si sí su sus te
tu un una uno y ya alegría blanca blanco bueno calvo campo castillo cruz delgado dolores flores herrero león leon luz
marina mercedes molina montaña moreno nieves palma paloma pastor paz pilar prado puerto ramos rey reyes rio río rocío
rosa rubio santos sol vega
aan al bij dat de den der die dit een en er het hij hoe ik in is je jij met na naar niet nog of om ons ook op te ten
ter toe tot u uit van voor wat we wie wij zij zo bakker beek boer bos brouwer bruin dekker dijk graaf groot haan hoek
jong klein kok koning koster kuiper lente maan meer mulder prins roos schipper smit ster veen visser vos wit zomer
zwart
`;

export const COMMON_WORDS: ReadonlySet<string> = new Set(WORDS.split(/\s+/).filter(Boolean));

/** Particles of family names ("van der Berg", "de la Cruz", "von Bülow"): part of a name, never a name alone. */
export const NAME_PARTICLES: ReadonlySet<string> = new Set(
  'van von der den de del della di da du des la le el al bin ben ibn ter ten te zu zum zur dos das do st ste'.split(' '),
);

/**
 * Words that often begin a sentence: a name part among them, capitalised at the start of a sentence ("Will",
 * "Young", "Klein"), is taken only when the same person is named unmistakably elsewhere in the text.
 */
export const SENTENCE_STARTS: ReadonlySet<string> = new Set(
  `a an and as at but by do for from he her his i if in is it may my no not of on or our so the to we will with yes you
young green long little small good best early free hope
aber als am auch auf aus bei da das dass dem den der des die du ein eine er es für ich ihr im in ist ja kein man mit
nach nicht noch nur ob oder ohne sie so um und von vor was wer wie wir zu zum zur klein lang lange jung gut frei hoch
kurz à au aux avec ce ces dans de des du elle en est et il je la le les leur lui ma mais mes mon ne nous on ou par pas
pour qui sa se ses si son sur ta te tu un une vous al como con del el ella es esta este las lo los mas mi nos para
pero por que su sus y ya aan bij dat dit een het hij hoe ik je jij met na naar niet nog of om ons ook op toe tot u uit
van voor wat wie wij zij zo groot jong`.split(/\s+/),
);
